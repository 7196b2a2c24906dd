# Entry points; the scripts do the work (CI runs .ci/run: scripts/setup.sh && scripts/test.sh).
.PHONY: setup test lint sanity pytest unit integration molecule demo clean

setup:
	bash scripts/setup.sh

test:
	bash scripts/test.sh

lint:
	bash scripts/test.sh lint

sanity:
	bash scripts/test.sh sanity

pytest:
	bash scripts/test.sh pytest

unit:
	bash scripts/test.sh unit

integration:
	bash scripts/test.sh integration

molecule:
	bash scripts/test.sh molecule

demo:
	bash scripts/demo.sh

# Build artefacts only; ansible-test keeps its virtual environments in ~/.ansible/test.
clean:
	rm -rf .build tests/output
