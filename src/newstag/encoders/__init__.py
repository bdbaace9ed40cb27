"""Sentence encoders for related headlines: int8 MiniLM (ONNX) and the semantic MiniLM."""
