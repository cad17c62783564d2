"""scikit-learn's metrics (Debian's python3-sklearn) for tests/training/metrics_test.cc.
Usage: /usr/bin/python3 sklearn_metrics.py IN_CSV THRESHOLD OUT_JSON
IN_CSV has lines "score,label"."""
import json
import sys

import numpy as np
from sklearn.metrics import (average_precision_score, confusion_matrix, f1_score,
                             precision_score, recall_score, roc_auc_score, roc_curve)

data = np.loadtxt(sys.argv[1], delimiter=",")
threshold = float(sys.argv[2])
scores, labels = data[:, 0].astype(np.float32), data[:, 1].astype(int)
pred = (scores >= np.float32(threshold)).astype(int)
tn, fp, fn, tp = confusion_matrix(labels, pred).ravel()
fpr, tpr, _ = roc_curve(labels, scores)
json.dump({
    "roc_auc": roc_auc_score(labels, scores),
    "average_precision": average_precision_score(labels, scores),
    "precision": precision_score(labels, pred), "recall": recall_score(labels, pred),
    "f1": f1_score(labels, pred),
    "tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn),
    "recall_at_fpr_0.01": float(tpr[fpr <= 0.01].max()),
    "recall_at_fpr_0.05": float(tpr[fpr <= 0.05].max()),
}, open(sys.argv[3], "w"))
