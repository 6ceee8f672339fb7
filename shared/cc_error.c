#include "cc_error.h"
