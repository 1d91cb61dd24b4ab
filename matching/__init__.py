"""The domain of Maillage: types, storage, filters, scoring, recommendation, evaluation, CLI."""
