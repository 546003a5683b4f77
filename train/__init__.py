"""Training scripts for the models shipped under qa/models/ (run as python -m train.NAME)."""
