"""Work on the video itself: read a delivered MP4, take a frame out, join two clips, make one fit.

Everything here is blocking and CPU-bound (FFmpeg's libraries through PyAV), on plain paths: the
lifecycle calls it through :class:`~bot.video.worker.VideoWorker`, which runs it off the event loop
with a bounded number at once. Every operation streams (frame by frame, packet by packet), so a
long clip never sits whole in memory. A file that is not a readable video raises
:class:`~bot.video.probe.NotReadable`, never an FFmpeg error.

- :mod:`~bot.video.probe`: what a file is (duration, frames, size, codecs, sound).
- :mod:`~bot.video.frames`: the first or last frame as a PNG, a small poster image.
- :mod:`~bot.video.join`: two clips as one, without the frame they share.
- :mod:`~bot.video.fit`: a re-encode (H.264 + AAC) that fits a byte limit.
"""
