# Two commands do all the set-up on a fresh machine:
#   make run    install what is missing, then open the live show (setups/default.toml)
#   make test   install what is missing, then run the test suite
SETUP ?= setups/default.toml
ARGS ?=

.PHONY: run test bootstrap
bootstrap:
	@scripts/bootstrap

run: bootstrap
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "make run: no display here, showing the live window on a virtual one (xvfb-run)"; \
	  xvfb-run -a -s "-screen 0 1280x720x24" .venv/bin/vj run $(SETUP) $(ARGS); \
	else .venv/bin/vj run $(SETUP) $(ARGS); fi

test: bootstrap
	.venv/bin/python -m pytest -q $(ARGS)
