"""Reference data for tests/scoring: trains a model in Python's xgboost (Debian's python3-xgboost)
and writes what xgboost itself predicts, so the C++ evaluator can be compared with it.

Usage: /usr/bin/python3 xgboost_reference.py OUT_DIR SEED
Writes OUT_DIR/model.json, OUT_DIR/x.csv (held-out rows, header = feature names, 'nan' missing),
OUT_DIR/margin.csv, OUT_DIR/prob.csv, OUT_DIR/shap.csv and OUT_DIR/saabas.csv (one row per
x row: one column per feature then the bias)."""
import sys

import numpy as np
import xgboost as xgb

out, seed = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(seed)
# Schema feature names, deliberately not in schema order: the model reads features by name.
names = ["tx_count_1h", "amount", "distance_from_prev_km", "new_device", "merchant_fraud_rate_7d",
         "local_hour", "amount_zscore", "tx_sum_24h", "is_international", "speed_from_prev_kmh",
         "account_age_days", "mcc"]
n, d = 3000, len(names)
x = rng.normal(size=(n, d))
x[:, 1] = np.exp(rng.normal(3, 1.5, size=n))          # amount-like, wide range
x[:, 3] = rng.integers(0, 2, size=n)                   # binary
x[:, 11] = rng.integers(1000, 9999, size=n)            # integer codes
x[rng.random(size=(n, d)) < 0.08] = np.nan             # missing values take default directions
logit = (0.8 * np.nan_to_num(x[:, 0]) + 0.002 * np.nan_to_num(x[:, 1]) + 1.5 * np.nan_to_num(x[:, 3])
         - np.abs(np.nan_to_num(x[:, 6])) + 0.5 * np.nan_to_num(x[:, 4]) * np.nan_to_num(x[:, 2]) - 2)
y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
train, test = slice(0, 2400), slice(2400, n)
dtrain = xgb.DMatrix(x[train], label=y[train], feature_names=names, missing=np.nan)
params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.2,
          "subsample": 0.8, "colsample_bytree": 0.8, "seed": seed, "base_score": 0.3}
booster = xgb.train(params, dtrain, num_boost_round=60)
booster.save_model(f"{out}/model.json")

dtest = xgb.DMatrix(x[test], feature_names=names, missing=np.nan)
fmt = "%.17g"
np.savetxt(f"{out}/x.csv", x[test], delimiter=",", header=",".join(names), comments="", fmt=fmt)
np.savetxt(f"{out}/margin.csv", booster.predict(dtest, output_margin=True), fmt=fmt)
np.savetxt(f"{out}/prob.csv", booster.predict(dtest), fmt=fmt)
header = ",".join(names + ["bias"])
np.savetxt(f"{out}/shap.csv", booster.predict(dtest, pred_contribs=True), delimiter=",",
           header=header, comments="", fmt=fmt)
np.savetxt(f"{out}/saabas.csv", booster.predict(dtest, pred_contribs=True, approx_contribs=True),
           delimiter=",", header=header, comments="", fmt=fmt)
