"""The bundled corpus, training and evaluation: builds what `model` loads."""
