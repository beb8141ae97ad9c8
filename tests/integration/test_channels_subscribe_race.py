"""Channels over the real Redis: a subscriber that joins while another one's SUBSCRIBE is in
flight still receives everything published once its block has started."""

import asyncio
import uuid

import pytest

from brace.channels import Channels

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("need_redis")]


def test_concurrent_subscribers_miss_nothing() -> None:
    async def scenario() -> int:
        channels = Channels("redis://127.0.0.1:6379/15", prefix=f"race-{uuid.uuid4().hex}:")
        missed = 0
        try:
            for round_ in range(20):
                group = f"g{round_}"

                async def first(group: str = group) -> None:
                    async with channels.subscribe(group):
                        await asyncio.sleep(0.2)

                async def second(group: str = group) -> bool:
                    await asyncio.sleep(0)
                    async with channels.subscribe(group) as subscription:
                        await channels.publish(group, "hello")
                        try:
                            return await asyncio.wait_for(subscription.get(), 2) == "hello"
                        except TimeoutError:
                            return False

                _, got = await asyncio.gather(first(), second())
                missed += not got
        finally:
            await channels.close()
        return missed

    assert asyncio.run(scenario()) == 0
