"""Jinja2 templates of the generated code (shipped inside the wheel as `specc.templates`)."""
