"""Small helpers every layer may use: printable player text, strict YAML spec files, interval
statistics. They import nothing else from traitors."""
