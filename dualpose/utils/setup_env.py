import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every dualpose module that registers components, and optionally make
    ``dualpose`` the default registry scope."""
    import dualpose.datasets  # noqa: F401
    import dualpose.engine  # noqa: F401
    import dualpose.evaluation  # noqa: F401
    import dualpose.models  # noqa: F401
    import dualpose.visualization  # noqa: F401

    if init_default_scope:
        never_created = (DefaultScope.get_current_instance() is None
                         or not DefaultScope.check_instance_created('dualpose'))
        if never_created:
            DefaultScope.get_instance('dualpose', scope_name='dualpose')
            return
        current_scope = DefaultScope.get_current_instance()
        if current_scope.scope_name != 'dualpose':
            warnings.warn('The current default scope '
                          f'"{current_scope.scope_name}" is not "dualpose", '
                          '`register_all_modules` will force the current '
                          'default scope to be "dualpose".')
            new_instance_name = f'dualpose-{datetime.datetime.now()}'
            DefaultScope.get_instance(new_instance_name, scope_name='dualpose')
