import { Entity } from '@backstage/catalog-model';

/**
 * Whether the PRR Portal scores this kind of entity: components (the services it scans).
 * No annotation is needed, the portal is asked by the entity's ref.
 *
 * @public
 */
export function isPrrAvailable(entity: Entity): boolean {
  return entity.kind.toLocaleLowerCase('en-US') === 'component';
}
