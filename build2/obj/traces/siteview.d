build2/obj/traces/siteview.o: traces/siteview.c traces/siteview.h \
 traces/trace.h
traces/siteview.h:
traces/trace.h:
