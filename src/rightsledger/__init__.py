"""RightsLedger: an evidence-grade ledger of human-rights incidents from open-source reporting."""

from rightsledger.model import Document, Incident, Span

__version__ = "0.1.0"
__all__ = ["Document", "Incident", "Span", "__version__"]
