# analysis/: the `hak` dispatcher, `hak db`, `hak report`, schema and queries.
HAK_OBJS += $(OBJ)/analysis/hak_main.o
