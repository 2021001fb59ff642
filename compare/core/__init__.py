"""Framework-free engine parts that know no layer kind by name: the kind registry,
the model graph, shape arithmetic, field validators and axis layouts."""
