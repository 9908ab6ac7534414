"""One process of the cross-process reservation race: ``python reserve_racer.py URL N LIMIT_TENTHS``.

Waits for a line on stdin (so every racer starts together), fires N reservations of 1 credit at once
for one member, then prints how many were accepted.
"""

from __future__ import annotations

import asyncio
import sys

from storage import QuotaExceeded, Storage
from tests.builders import make_new_task

T0 = 1_715_774_400.0


async def main(url: str, n: int, limit_tenths: int) -> None:
    store = await Storage.open(url, default_limit_tenths=limit_tenths)
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        async def one() -> bool:
            try:
                await store.quota.reserve(
                    make_new_task(guild_id=1000, channel_id=2000, user_id=3000, cost_tenths=10), now=T0
                )
            except QuotaExceeded:
                return False
            return True

        results = await asyncio.gather(*(one() for _ in range(n)))
        print(sum(results), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
