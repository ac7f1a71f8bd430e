"""NLU components of our own: pretrained sentence embeddings as dense features for DIET."""
