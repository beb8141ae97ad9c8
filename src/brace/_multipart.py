"""Multipart bodies, parsed as they stream in with python-multipart: text fields are held in
memory (each capped), files are written to spooled temporary files as their bytes arrive.
Any error closes what was opened, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from .core.datastructures import FormData, UploadFile
from .core.errors import HTTPError
from .core.forms import FormLimits
from .core.requests import Request

__all__ = ["parse_multipart"]


def _boundary(content_type: str) -> bytes:
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if not boundary:
        raise HTTPError(400, "multipart/form-data without a boundary parameter.")
    if len(boundary) > 200:
        raise HTTPError(400, "The multipart boundary is longer than 200 characters.")
    return boundary


class _MultipartBuilder:
    """Collects parser events for one chunk, then applies them (file writes may await)."""

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.events: list[tuple[str, Any]] = []
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.part_headers: dict[str, str] = {}
        self.items: list[tuple[str, str | UploadFile]] = []
        self.fields = 0
        self.files = 0
        self.current_name = ""
        self.current_file: UploadFile | None = None
        self.current_value = bytearray()
        self.ended = False
        self.text_held = 0  # bytes of finished text fields, held in memory
        self.files_held = 0  # bytes of files still in memory

    # -- parser callbacks (sync): remember what happened --------------------------------

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self.part_headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self.header_field.decode("latin-1").lower()
        self.part_headers[name] = self.header_value.decode("latin-1")
        self.header_field.clear()
        self.header_value.clear()

    def _on_headers_finished(self) -> None:
        self.events.append(("headers", dict(self.part_headers)))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.events.append(("data", data[start:end]))

    def _on_part_end(self) -> None:
        self.events.append(("end", None))

    def _on_end(self) -> None:
        self.ended = True

    # -- applying events ----------------------------------------------------------------

    async def apply(self) -> None:
        events, self.events = self.events, []
        for kind, value in events:
            if kind == "headers":
                self._start_part(value)
            elif kind == "data":
                await self._add_data(value)
            else:
                self._end_part()

    def _start_part(self, headers: dict[str, str]) -> None:
        from python_multipart.multipart import parse_options_header

        disposition, options = parse_options_header(headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise HTTPError(400, "A multipart part has no Content-Disposition form-data name.")
        name = _decode(options[b"name"], "A multipart field name is not valid UTF-8.")
        self.current_name = name
        self.current_value.clear()
        if b"filename" in options:
            self.files += 1
            if self.files > self.limits.max_files:
                raise HTTPError(400, f"The form has more than {self.limits.max_files} files.")
            filename = options[b"filename"].decode("utf-8", errors="replace")
            content_type = headers.get("content-type", "application/octet-stream")
            upload = UploadFile(
                filename=filename,
                content_type=content_type.strip() or "application/octet-stream",
                field_name=name,
                headers=headers,
                spool_size=self.limits.spool_size,
            )
            self.current_file = upload
            self.items.append((name, upload))
        else:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise HTTPError(400, f"The form has more than {self.limits.max_fields} fields.")
            self.current_file = None

    async def _add_data(self, data: bytes) -> None:
        upload = self.current_file
        if upload is None:
            self.current_value += data
            if len(self.current_value) > self.limits.max_field_size:
                raise HTTPError(
                    413,
                    f"Form field {self.current_name[:100]!r} is larger than "
                    f"{self.limits.max_field_size} bytes.",
                )
            text = self.text_held + len(self.current_value)
            if text + self.files_held > self.limits.max_memory_size:
                await self._spill_files()  # text cannot go to disk; files can
                if text > self.limits.max_memory_size:
                    raise HTTPError(
                        413, f"The form's text is larger than {self.limits.max_memory_size} bytes."
                    )
            return
        if upload.size + len(data) > self.limits.max_file_size:
            raise HTTPError(
                413,
                f"The file in field {self.current_name[:100]!r} is larger than "
                f"{self.limits.max_file_size} bytes.",
            )
        if upload.in_memory:
            held = self.text_held + self.files_held + len(self.current_value) + len(data)
            if held > self.limits.max_memory_size:
                await self._spill_files()
            else:
                self.files_held += len(data)
        await upload.write(data)

    async def _spill_files(self) -> None:
        """Move every file still in memory to its temporary file on disk."""
        for _, value in self.items:
            if isinstance(value, UploadFile) and value.in_memory:
                await value.move_to_disk()
        self.files_held = 0

    def _end_part(self) -> None:
        if self.current_file is not None:
            self.current_file.file.seek(0)
            self.current_file = None
            return
        value = _decode(
            bytes(self.current_value), f"Form field {self.current_name[:100]!r} is not valid UTF-8."
        )
        self.items.append((self.current_name, value))
        self.text_held += len(self.current_value)
        self.current_value.clear()

    async def close_files(self) -> None:
        for _, value in self.items:
            if isinstance(value, UploadFile):
                await value.close()


def _decode(raw: bytes, message: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, message) from None


async def parse_multipart(request: Request, content_type: str, limits: FormLimits) -> FormData:
    try:
        from python_multipart import MultipartParser
        from python_multipart.exceptions import FormParserError
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise RuntimeError(
            'multipart forms need python-multipart: pip install "brace[forms]"'
        ) from None

    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPError(400, "Invalid Content-Length header.")
        if int(declared) > limits.max_body_size:
            raise HTTPError(413, f"The request body is larger than {limits.max_body_size} bytes.")
    builder = _MultipartBuilder(limits)
    parser = MultipartParser(_boundary(content_type), builder.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limits.max_body_size:
                raise HTTPError(
                    413, f"The request body is larger than {limits.max_body_size} bytes."
                )
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise HTTPError(400, f"Malformed multipart body: {exc}") from None
            await builder.apply()
            if builder.ended:
                break
        if not builder.ended:
            raise HTTPError(400, "The multipart body ended before its closing boundary.")
    except BaseException:
        await builder.close_files()
        raise
    return FormData(builder.items)
