"""The embedding model: the engine interface, ONNX Runtime and torch engines, ONNX export, the bundled model."""
