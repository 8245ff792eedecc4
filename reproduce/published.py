"""Published figures the tables print beside ours, each with its source.

Secondary-source figures are marked as such: the original papers' tables were not available to us.
"""

SEIZURENET_ARXIV = "Asif et al., SeizureNet, arXiv 1903.03232"
SEIZURENET_MLCN = "Asif et al., SeizureNet, MLCN 2020 chapter"
ROY_2019 = "Roy et al. 2019, arXiv 1902.01012, via secondary sources"
HMS_PAPER = "Kaewbuapan, temporal/spatial ablation on HMS (5-fold CV)"
DEOTTE_WAVENET = "Deotte, HMS WaveNet starter (Kaggle)"
DEOTTE_EFFICIENTNET = "Deotte, HMS EfficientNet starter (Kaggle)"

# Table 1: weighted F1, seizure-wise 5-fold and patient-wise 3-fold cross-validation.
TABLE1 = {
    "SeizureNet ensemble": [
        {"protocol": "seizure-wise", "value": 0.94, "source": SEIZURENET_ARXIV},
        {"protocol": "seizure-wise", "value": 0.95, "source": SEIZURENET_MLCN},
        {"protocol": "patient-wise", "value": 0.59, "source": SEIZURENET_ARXIV},
        {"protocol": "patient-wise", "value": 0.62, "source": SEIZURENET_MLCN},
    ],
    "AdaBoost": [{"protocol": "seizure-wise", "value": 0.509, "source": ROY_2019}],
    "SGD": [{"protocol": "seizure-wise", "value": 0.649, "source": ROY_2019}],
    "gradient boosting": [{"protocol": "seizure-wise", "value": 0.782, "source": ROY_2019 + " (XGBoost)"}],
    "k-NN": [{"protocol": "seizure-wise", "value": 0.884, "source": ROY_2019}],
}

# Table 2: Kaggle KL divergence (lower is better).
TABLE2 = {
    "temporal (WaveNet)": [
        {"protocol": "5-fold CV", "value": 0.39, "source": HMS_PAPER},
        {"protocol": "starter CV", "value": 0.81, "source": DEOTTE_WAVENET},
        {"protocol": "public LB", "value": 0.52, "source": DEOTTE_WAVENET + " (0.52-0.53)"},
    ],
    "spatial (EfficientNet)": [
        {"protocol": "5-fold CV", "value": 0.41, "source": HMS_PAPER},
        {"protocol": "starter CV", "value": 0.59, "source": DEOTTE_EFFICIENTNET},
        {"protocol": "public LB", "value": 0.43, "source": DEOTTE_EFFICIENTNET + " (0.43-0.44)"},
    ],
    "both (average)": [{"protocol": "5-fold CV", "value": 0.38, "source": HMS_PAPER}],
    "two-stage training": [{"protocol": "public LB", "value": 0.39, "source": DEOTTE_EFFICIENTNET + " (train twice)"}],
}

SZCORE_LEADERBOARD = "SzCORE public leaderboard, TUSZ v2.0.3, best event F1"

# Table 4: seizure detection on TUSZ v2.0.3 eval, SzCORE event scoring.
TABLE4 = {
    "best published detector": [
        {"protocol": "SzCORE event", "sensitivity": 0.573, "f1": 0.410, "false_alarms_per_24h": 18.2,
         "source": SZCORE_LEADERBOARD},
    ],
}


def published_figures(table, row):
    """The published figures of one row of table 1 or 2 (an empty list when none exists)."""
    return {"table1": TABLE1, "table2": TABLE2}[table].get(row, [])
