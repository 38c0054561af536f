"""Our own extractive question-answering reader (issue 5).

A small BERT (all-MiniLM-L6-v2, installed as a package) fine-tuned for span
extraction. Sub-modules:

- :mod:`qa.reader.data`: SQuAD-format JSON to tokenized, strided windows.
- :mod:`qa.reader.model`: the base model path, its hash and the QA model.
- :mod:`qa.reader.decode`: n-best span decoding from start/end logits.
- :mod:`qa.reader.artifact`: save/load the shipped weights (only what differs
  from the installed base) and their manifest.
- :mod:`qa.reader.train`: the training loop (checkpoints, resume).
- :mod:`qa.reader.evaluate`: closed-setting SQuAD EM/F1.
- :mod:`qa.reader.cli`: the ``qa train-reader`` command.
"""
