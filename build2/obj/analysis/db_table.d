build2/obj/analysis/db_table.o: analysis/db_table.c analysis/db_table.h
analysis/db_table.h:
