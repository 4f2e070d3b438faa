#ifndef CJWT_SHIM_H
#define CJWT_SHIM_H
#include <jwt.h>
#endif
