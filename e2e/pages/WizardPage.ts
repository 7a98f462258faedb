import { expect, type Page } from '@playwright/test';

export interface WizardInput {
  name: string;
  iso?: string;
  cpus?: string;
  memory?: string;
  diskSize?: string;
}

export class WizardPage {
  constructor(readonly page: Page) {}

  private id(testId: string) {
    return this.page.getByTestId(testId);
  }

  async next(): Promise<void> {
    await expect(this.id('wiz-next')).toBeEnabled();
    await this.id('wiz-next').click();
  }

  async step(): Promise<string | null> {
    return this.id('wiz-step').getAttribute('data-step');
  }

  /** Walks every step with the given values and stops on the review page. */
  async fill(input: WizardInput): Promise<void> {
    await expect(this.id('wizard')).toBeVisible();
    await this.id('wiz-name').fill(input.name);
    await this.id('wiz-os').selectOption('linux');
    await this.next();
    if (input.iso) {
      await this.id('wiz-media-iso').check();
      await this.id('wiz-iso-path').fill(input.iso);
    } else {
      await this.id('wiz-media-none').check();
    }
    await this.next();
    if (input.cpus) await this.id('wiz-cpus').fill(input.cpus);
    if (input.memory) await this.id('wiz-memory').fill(input.memory);
    await this.next();
    if (input.diskSize) await this.id('wiz-disk-size').fill(input.diskSize);
    await this.next();
    await this.next(); // firmware: the profile's default
    await this.next(); // network: NAT
    await expect(this.id('wiz-review')).toBeVisible();
  }

  async create(): Promise<void> {
    await this.id('wiz-create').click();
  }
}
