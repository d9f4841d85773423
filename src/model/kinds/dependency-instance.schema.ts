import { Type } from '@sinclair/typebox';
import { EnvList, NameRef, Opt, Req, Strict } from './schema-helpers.ts';

/**
 * One dependency entry of an Ecosystem, Domain or App: `name` + `ref` creates an instance of a definition
 * (or of an instance further up); `ref` alone uses the instance of that name found upward.
 */
export const DependencyInstance = Strict(
  {
    name: Opt(NameRef, 'Instance name; the same name at the same scope is one shared instance.'),
    ref: Opt(NameRef, 'The Dependency definition to instantiate, or an instance further up to use.'),
    env: Opt(EnvList, 'Environment overrides for this instance.'),
    ports: Opt(
      Type.Array(
        Strict({
          containerPort: Req(Type.Integer({ minimum: 1, maximum: 65535 }), 'Port of the definition.'),
          hostPort: Req(
            Type.Integer({ minimum: 1, maximum: 65535 }),
            'Port on this machine for this instance.',
          ),
        }),
      ),
      'Host ports of this instance (default: the definition hostPort, else the container port).',
    ),
  },
  'A dependency instance (name + ref) or a use of one found upward (ref alone).',
);

/** The list of dependency entries. */
export const DependencyInstanceList = Type.Array(DependencyInstance, {
  description: 'Dependency instances created or used at this scope.',
});
