build2/obj/replayer/rss.o: replayer/rss.c replayer/rss.h
replayer/rss.h:
