"""The web page over `rag.Engine` (`rag serve`); see ui/app.py. `rag/` never imports this package."""
