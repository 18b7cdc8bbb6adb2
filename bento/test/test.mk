# bento/test: rules added by its owner.
