# fs/hello: rules added by its owner.
