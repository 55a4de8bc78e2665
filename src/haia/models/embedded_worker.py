"""The embedded model's worker process: llama.cpp's own server, from the ``xllamacpp`` wheel.

Run as ``python -m haia.models.embedded_worker MODEL.gguf --parallel N --ctx N --threads N``. It
loads the model, serves OpenAI-compatible chat completions on a free port of 127.0.0.1 with ``N``
parallel slots (continuous batching), prints one line ``READY <base-url>`` on standard output and
runs until its standard input closes (so it never outlives the audit that started it). Native
code runs here, not in the audit process: a crash of llama.cpp ends this process only, and the
audit reports it as one line and can be resumed.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="haia.models.embedded_worker")
    parser.add_argument("model")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--ctx", type=int, default=2048, help="context tokens per slot")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_parallel = args.parallel
    params.n_ctx = args.ctx * args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.warmup = False
    params.offline = True
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    server = xllamacpp.Server(params)
    print(f"READY {server.listening_address}", flush=True)
    sys.stdin.read()  # returns at EOF: the parent closed the pipe or exited
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
