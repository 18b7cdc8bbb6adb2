# tests/model: the model-checked workload of tests/model.t (included
# from tests/upgrade/upgrade.mk).
#
#   $(O)/tests/model/model   threads doing random file operations checked
#                            against an in-memory model of the contents
#
# Outside tests/bin: it needs a directory argument, and run-all.sh runs
# everything there without arguments.

MODEL_BIN := $(O)/tests/model/model

$(MODEL_BIN): $(O)/tests/model/model.o
	$(CC) $(LDFLAGS) -pthread -o $@ $^

$(O)/tests/model/model.o: tests/model/model.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -pthread -c -o $@ $<

ALL += $(MODEL_BIN)
