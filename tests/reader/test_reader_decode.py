import numpy as np

from qa.reader.decode import calibrated, decode_window, fit_calibration


def _offsets():
    # [CLS] q q [SEP] w0 w1 w2 w3 w4 [SEP] pad pad
    ctx = [(0, 5), (6, 11), (12, 17), (18, 23), (24, 29)]
    return [None, None, None, None, *ctx, None, None, None]


def test_best_span_offsets_exact():
    offs = _offsets()
    s = np.zeros(len(offs))
    e = np.zeros(len(offs))
    s[5], e[6] = 5.0, 4.0  # tokens 5..6 -> chars 6..17
    spans = decode_window(s, e, offs, n_best=3)
    assert (spans[0].start, spans[0].end) == (6, 17)
    assert spans[0].logit == 9.0
    assert spans[0].null_logit == 0.0
    assert spans[0].margin == 9.0
    assert len(spans) == 3
    assert all(a.logit >= b.logit for a, b in zip(spans, spans[1:], strict=False))


def test_never_decodes_question_specials_or_padding():
    offs = _offsets()
    s = np.full(len(offs), -1.0)
    e = np.full(len(offs), -1.0)
    s[1], e[2] = 50.0, 50.0  # question tokens: must be ignored
    s[-1], e[-1] = 60.0, 60.0  # padding
    s[0], e[0] = 10.0, 10.0  # [CLS]: null only
    s[7], e[8] = 1.0, 1.0
    spans = decode_window(s, e, offs, n_best=1)
    assert (spans[0].start, spans[0].end) == (18, 29)
    assert spans[0].null_logit == 20.0
    assert spans[0].margin == 2.0 - 20.0


def test_max_answer_tokens_and_chars():
    offs = _offsets()
    s = np.zeros(len(offs))
    e = np.zeros(len(offs))
    s[4], e[8] = 10.0, 10.0  # 5 tokens long, 29 chars
    long = decode_window(s, e, offs, n_best=1, max_answer_tokens=5)[0]
    assert (long.start, long.end) == (0, 29)
    short = decode_window(s, e, offs, n_best=5, max_answer_tokens=4)
    assert all(sp.end - sp.start < 29 for sp in short)
    chars = decode_window(s, e, offs, n_best=5, max_answer_chars=11)
    assert chars and all(sp.end - sp.start <= 11 for sp in chars)


def test_end_before_start_never_returned():
    offs = _offsets()
    s = np.zeros(len(offs))
    e = np.zeros(len(offs))
    s[8], e[4] = 10.0, 10.0
    for sp in decode_window(s, e, offs, n_best=10):
        assert sp.end > sp.start


def test_empty_context():
    assert decode_window(np.zeros(3), np.zeros(3), [None, None, None]) == []


def test_calibration_monotone_and_bounded():
    a, b = fit_calibration([-5, -3, -1, 0, 1, 2, 4, 6], [0, 0, 0, 1, 0, 1, 1, 1])
    assert a > 0
    ps = [calibrated(m, a, b) for m in (-100, -1, 0, 1, 100)]
    assert all(0.0 <= p <= 1.0 for p in ps)
    assert ps == sorted(ps)
    assert fit_calibration([], []) == (1.0, 0.0)
