"""scikit-learn's IsolationForest (Debian's python3-sklearn) for tests/training.
Usage: /usr/bin/python3 sklearn_iforest.py TRAIN_CSV TEST_CSV TREES OUT_CSV
CSVs hold feature rows without a header; OUT_CSV gets one anomaly score per test row
(-score_samples: higher = more anomalous, the scale fraudwatch uses)."""
import sys

import numpy as np
from sklearn.ensemble import IsolationForest

train = np.loadtxt(sys.argv[1], delimiter=",", dtype=np.float32)
test = np.loadtxt(sys.argv[2], delimiter=",", dtype=np.float32)
forest = IsolationForest(n_estimators=int(sys.argv[3]), max_samples=256, random_state=0)
forest.fit(train)
np.savetxt(sys.argv[4], -forest.score_samples(test), fmt="%.9g")
