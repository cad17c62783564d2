"""Predicts with Python's xgboost (Debian's python3-xgboost) from a model fraudwatch trained.
Usage: /usr/bin/python3 xgboost_predict.py MODEL_JSON X_CSV OUT_CSV
X_CSV has a header of feature names; OUT_CSV gets one probability per row."""
import sys

import numpy as np
import xgboost as xgb

booster = xgb.Booster(model_file=sys.argv[1])
with open(sys.argv[2]) as f:
    names = f.readline().strip().split(",")
x = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
assert names == booster.feature_names, "feature names differ"
np.savetxt(sys.argv[3], booster.predict(xgb.DMatrix(x, feature_names=names)), fmt="%.9g")
