"""Dossier look-up (tra cứu hồ sơ): sources behind one interface, chosen by `dossiers.source` in config.yaml.

- sources.py: `DossierLookup` and the sources `http` (the province's one-stop system), `file` (rows imported
  with `qms import-dossiers`), `fake` (the demo's dossiers, in process);
- importing.py: reading a CSV or XLSX export, every bad row reported by its line;
- fake_data.py, fake_server.py: a fake one-stop server (`python -m queue_server.dossiers.fake_server --port N`)
  answering in two vendors' shapes, with dossiers in every state.
The rules (mapping an answer, masking the applicant's name) are in queue_server/core/dossiers.py.
"""
