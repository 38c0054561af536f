"""``qa serve``: keep an assistant loaded and answer ``qa ask`` over a local socket.

A cold ``qa ask`` pays for importing PyTorch and sentence-transformers and loading two
models before it can answer (seconds). ``qa serve`` pays that once; ``qa ask`` then
connects to its Unix socket, sends the question and prints the answer, importing
neither (see :mod:`qa.serve.client`).
"""
