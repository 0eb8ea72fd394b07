"""The classifier engine's protocol: sequence classification and regression models that score texts."""
