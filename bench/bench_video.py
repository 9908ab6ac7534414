"""Video work benchmark: seconds and peak memory per operation of bot/video on big clips.

Makes a 6 s 1080P clip and a 15 s 2K (2560×1440) clip, 24 fps with stereo AAC (H.264 without
B-frames, so two of them join by stream copy; a copy with B-frames forces the re-encoding join),
then times each operation in a fresh child process and reads that child's peak RSS, so one
operation's memory does not hide behind another's. The child's RSS includes Python and PyAV
themselves: the ``baseline`` row is that alone.

``probe`` and ``poster`` are what every delivery adds: the readability check of the downloaded file
(a corrupt one fails with a refund) and the first frame as the result's small JPEG.

Run: ``.venv/bin/python bench/bench_video.py`` (``--quick`` for 2 s clips; ``--only probe,poster``
for some operations).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from bot.lifecycle.notifier import DEFAULT_UPLOAD_LIMIT
from bot.video.fit import fit
from bot.video.frames import last_frame_png, poster
from bot.video.join import join
from bot.video.probe import probe
from tests.fakes.mp4 import write_clip

CLIPS = {"6 s 1080P": (6, 1920, 1080), "15 s 2K": (15, 2560, 1440)}
OPERATIONS = (
    "baseline", "probe", "last frame", "poster", "join (copy)", "join (re-encode)", "loop (copy)",
    "fit 10 MiB", "fit 2 MiB",
)  # fmt: skip


def _child(operation: str, clip: Path, other: Path, out: Path) -> None:
    started = time.perf_counter()
    detail = ""
    if operation == "last frame":
        png = last_frame_png(clip, out.with_suffix(".png"))
        # What an Extend sends inline: the PNG as a base64 data URL (4/3 of its bytes).
        detail = (
            f"PNG {png.stat().st_size / 2**20:.2f} MiB, data URL {png.stat().st_size * 4 / 3 / 2**20:.2f} MiB"
        )
    elif operation == "probe":
        info = probe(clip)
        detail = f"{info.frames} frames, {info.width}x{info.height}"
    elif operation == "poster":
        jpeg = poster(clip, out.with_suffix(".jpg"))
        detail = f"JPEG {jpeg.stat().st_size / 1024:.1f} KiB"
    elif operation == "join (copy)":
        joined = join(clip, clip, out)
        detail = f"copied={joined.copied}, {joined.info.seconds:.2f} s"
    elif operation == "loop (copy)":
        joined = join(clip, clip, out, loop=True)
        detail = f"copied={joined.copied}, {joined.info.seconds:.2f} s"
    elif operation == "join (re-encode)":
        joined = join(clip, other, out)
        detail = f"copied={joined.copied}, {joined.info.seconds:.2f} s"
    elif operation.startswith("fit"):
        limit = DEFAULT_UPLOAD_LIMIT if operation == "fit 10 MiB" else 2 * 2**20  # 2 MiB: scaled down
        fitted = fit(clip, out, limit)
        detail = f"{fitted.size_bytes / 2**20:.2f} MiB at {fitted.plan.width}x{fitted.plan.height}"
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mib": _peak_kib() / 1024, "detail": detail}))


def _peak_kib() -> int:
    """This process's peak RSS (VmHWM), not ru_maxrss: Linux carries that over from the forked
    parent across exec, so every child would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated operations to run (default: all)")
    parser.add_argument("--child", nargs=4, metavar=("OP", "CLIP", "OTHER", "OUT"))
    args = parser.parse_args()
    if args.child:
        operation, clip, other, out = args.child
        _child(operation, Path(clip), Path(other), Path(out))
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        print(f"{'clip':<10} {'operation':<17} {'seconds':>8} {'peak RSS MiB':>13}  detail")
        for name, (seconds, width, height) in CLIPS.items():
            seconds = 2 if args.quick else seconds
            clip = root / f"{width}.mp4"
            reordered = root / f"{width}-b.mp4"
            made = time.perf_counter()
            write_clip(clip, seconds * 24, width=width, height=height, audio=True, crf=18, grain=True)
            write_clip(
                reordered, seconds * 24, width=width, height=height, audio=True, bframes=2, crf=18, grain=True
            )
            size = clip.stat().st_size / 2**20
            print(f"{name}: made in {time.perf_counter() - made:.1f} s, {size:.1f} MiB")
            wanted = args.only.split(",") if args.only else OPERATIONS
            for operation in (op for op in OPERATIONS if op in wanted):
                out = root / "out.mp4"
                result = subprocess.run(
                    [sys.executable, __file__, "--child", operation, str(clip), str(reordered), str(out)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                figures = json.loads(result.stdout.strip().splitlines()[-1])
                print(
                    f"{name:<10} {operation:<17} {figures['seconds']:>8.2f} {figures['peak_mib']:>13.0f}"
                    f"  {figures['detail']}"
                )


if __name__ == "__main__":
    main()
