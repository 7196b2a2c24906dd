# Entry points; the scripts do the work (CI runs .ci/run: scripts/setup.sh && scripts/test.sh).
# Every target but setup and clean needs .venv, which `make setup` (scripts/setup.sh) makes.
.PHONY: setup test lint sanity pytest unit integration reliability molecule demo readme matrix newcomer clean

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

lint sanity pytest unit integration reliability molecule readme matrix newcomer:
	bash scripts/test.sh $@

demo:
	bash scripts/demo.sh

# Build artefacts, the virtual environments (.venv and .build/matrix) included; ansible-test keeps
# its virtual environments in ~/.ansible/test. A kept demo ZooKeeper is stopped first.
clean:
	-bash scripts/demo.sh stop
	rm -rf .build .venv tests/output
