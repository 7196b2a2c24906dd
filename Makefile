# Entry points; the scripts do the work (CI runs .ci/run: scripts/setup.sh && scripts/test.sh full).
# Every target but setup and clean needs .venv, which `make setup` (scripts/setup.sh) makes.
# `make test` is the everyday quick tier, `make full` the whole suite; the others are single steps.
.PHONY: setup test full quick lint sanity pytest-quick pytest-full pytest unit integration reliability molecule validators demo readme matrix newcomer clean

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

full quick lint sanity pytest-quick pytest-full pytest unit integration reliability molecule validators readme matrix newcomer:
	bash scripts/test.sh $@

demo:
	bash scripts/demo.sh

# Build artefacts, the virtual environments (.venv and .build/matrix) included; ansible-test keeps
# its virtual environments in ~/.ansible/test. A kept demo ZooKeeper is stopped first.
clean:
	-bash scripts/demo.sh stop
	rm -rf .build .venv tests/output
