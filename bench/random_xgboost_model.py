# Writes a 200-tree, depth-6 XGBoost model over all feature names (random data) for
# `fraudwatch bench --model`: /usr/bin/python3 bench/random_xgboost_model.py OUT.json
# Run from the repository root.
import sys, re, numpy as np, xgboost as xgb
src = open('src/features/schema.h').read()
names = re.findall(r'X\(k\w+, "(\w+)"\)', src)
assert len(names) == 49, len(names)
rng = np.random.default_rng(1)
X = rng.random((20000, len(names)))
y = (X[:, :5].sum(axis=1) + rng.normal(0, 0.3, 20000) > 3.2).astype(float)
d = xgb.DMatrix(X, label=y, feature_names=names)
b = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 1}, d, 200)
b.save_model(sys.argv[1])
print("trees", len(b.get_dump()), "pos", y.mean())
