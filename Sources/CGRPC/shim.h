#ifndef CGRPC_SHIM_H
#define CGRPC_SHIM_H

// gRPC's headers define _GNU_SOURCE, which changes glibc struct layouts and then
// clashes with the Foundation/Dispatch modules (fd_set): pull these in first.
#include <features.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/select.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>
#include <grpc/support/alloc.h>

// GRPC_SLICE_START_PTR / GRPC_SLICE_LENGTH are macros: Swift cannot import them.
// The slice is passed by pointer: a small slice keeps its bytes inline, so a pointer
// into a by-value copy would dangle as soon as the call returns.
static inline const uint8_t *cgrpc_slice_start(const grpc_slice *slice) {
    return GRPC_SLICE_START_PTR(*slice);
}

static inline size_t cgrpc_slice_length(const grpc_slice *slice) {
    return GRPC_SLICE_LENGTH(*slice);
}

#endif
