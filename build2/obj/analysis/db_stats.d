build2/obj/analysis/db_stats.o: analysis/db_stats.c analysis/db_stats.h
analysis/db_stats.h:
