# Shortcuts for the scripts the README names.
.PHONY: demo test openapi
demo:
	scripts/demo.sh
test:
	scripts/test.sh
openapi:
	.venv/bin/python -m ova.cloud.openapi docs/openapi
