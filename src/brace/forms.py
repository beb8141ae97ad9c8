"""Typed HTML forms: a model validated from the submitted fields, and a result a page can
re-render with the user's input and one message per field.

    @app.post("/sign")
    async def sign(request: Request, form: FormResult[Entry]) -> Response:
        if not form.ok:
            return templates.render(request, "index.html", {"form": form}, status=422)
        save(form.value)
        return RedirectResponse("/", 303)

`Annotated[Entry, Form()]` validates the same way but answers 422 problem+json on failure,
like a JSON body (the API style). Importing this module (as `import brace` does) teaches
`request.form()` to read multipart bodies.
"""

from __future__ import annotations

from ._multipart import parse_multipart
from .core.datastructures import FormData, UploadFile
from .core.forms import FormLimits, FormResult, human_message, use_multipart_parser

__all__ = ["FormData", "FormLimits", "FormResult", "UploadFile", "human_message"]

use_multipart_parser(parse_multipart)
