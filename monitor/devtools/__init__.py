"""Development tools: the loopback mirror and fault server, golden pages, evaluations, the reliability report.

They work in a clone of the project: ``ROOT`` is the checkout (fixtures/ beside monitor/), ``SHARED`` the team's
read-only material next to it (../shared), which evaluations use when it is there.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
