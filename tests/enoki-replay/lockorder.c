/*
 * lockorder.c - the one difference between lockpol's two builds: the
 * order its enqueue takes its locks in (log.mk builds this file with
 * -DLOCKPOL_ORDER=0 and =1).
 */
extern const int lockpol_order;
const int lockpol_order = LOCKPOL_ORDER;
