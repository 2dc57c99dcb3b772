"""Interactive dashboard (streamlit): ``tariffsim dashboard``. The computations live in :mod:`.model`."""
