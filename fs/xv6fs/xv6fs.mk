# fs/xv6fs: rules added by its owner.
