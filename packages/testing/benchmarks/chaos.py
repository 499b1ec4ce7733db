"""The chaos suite at full length, on the local stack's real processes: PostgreSQL and S3 down for 30 s,
the LLM endpoint answering 503 for two minutes, Temporal and each worker killed with SIGKILL mid-work.
Prints each case's recovery time beside a fault-free run of the same documents measured first.

    uv run python packages/testing/benchmarks/chaos.py [--documents 20] [--outage-seconds 30]
        [--llm-outage-seconds 120]
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from antifragile_testing.chaos import (
    Fault,
    Fleet,
    Starter,
    chaos_fleet,
    hold_document_inserts,
    hold_llm_answers,
    llm_outage,
    postgres_outage,
    run_case,
    s3_outage,
    temporal_killed,
    worker_killed,
)
from antifragile_testing.openai_server import OpenAICompatibleServer


async def no_fault(fleet: Fleet, start_documents: Starter) -> tuple[float, float]:
    began = time.monotonic()
    return 0.0, began


def cases(args: argparse.Namespace) -> dict[str, Fault]:
    llm = {"generate_document_summary", "analyze_document_content"}
    return {
        "postgres": postgres_outage(args.outage_seconds),
        "s3": s3_outage(args.outage_seconds),
        "llm_503": llm_outage(args.llm_outage_seconds),
        "temporal_kill": temporal_killed,
        "worker_default_kill": worker_killed(
            "worker-default", {"process_document_upload"}, hold_document_inserts
        ),
        "worker_openai_kill": worker_killed("worker-openai", llm, hold_llm_answers),
    }


async def main(args: argparse.Namespace) -> None:
    with OpenAICompatibleServer() as server, tempfile.TemporaryDirectory(prefix="chaos-") as state:
        async with chaos_fleet(Path(state), server.scope(), ("worker-default", "worker-openai")) as fleet:
            baseline = await run_case(fleet, "no_fault", no_fault, args.documents)
            print(
                f"baseline: {args.documents} documents without a fault in {baseline.recovery_seconds:.1f} s"
            )
            for name, fault in cases(args).items():
                if args.cases and name not in args.cases:
                    continue
                report = await run_case(fleet, name, fault, args.documents, within=1800)
                ratio = report.recovery_seconds / baseline.recovery_seconds
                print(f"{report.line()} ({ratio:.1f}x the fault-free run)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=20, help="one-document workflows per case")
    parser.add_argument("--outage-seconds", type=float, default=30.0)
    parser.add_argument("--llm-outage-seconds", type=float, default=120.0)
    parser.add_argument("--cases", nargs="*", help="run only these cases (default: all)")
    asyncio.run(main(parser.parse_args()))
