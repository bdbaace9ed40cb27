"""The CMS HTTP service: ``newstag serve`` (FastAPI under uvicorn) and the feedback store.

Import :func:`newstag.service.app.create_app` to embed the app; this package itself stays
light so the CLI can import it without loading FastAPI.
"""
