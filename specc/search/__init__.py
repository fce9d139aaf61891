"""`specc search`: search files, their trials written into spec text, and the Optuna study."""
